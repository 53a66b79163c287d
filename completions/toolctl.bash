_toolctl() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="toolctl"
                ;;
            toolctl,check)
                cmd="toolctl__subcmd__check"
                ;;
            toolctl,completions)
                cmd="toolctl__subcmd__completions"
                ;;
            toolctl,config)
                cmd="toolctl__subcmd__config"
                ;;
            toolctl,help)
                cmd="toolctl__subcmd__help"
                ;;
            toolctl,incoming-email)
                cmd="toolctl__subcmd__incoming__subcmd__email"
                ;;
            toolctl,mailroom)
                cmd="toolctl__subcmd__mailroom"
                ;;
            toolctl,man)
                cmd="toolctl__subcmd__man"
                ;;
            toolctl,mattermost)
                cmd="toolctl__subcmd__mattermost"
                ;;
            toolctl,microsoft-graph-mailer)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer"
                ;;
            toolctl,reconfigure)
                cmd="toolctl__subcmd__reconfigure"
                ;;
            toolctl,redis)
                cmd="toolctl__subcmd__redis"
                ;;
            toolctl,secrets)
                cmd="toolctl__subcmd__secrets"
                ;;
            toolctl,service-desk-email)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email"
                ;;
            toolctl,show-config)
                cmd="toolctl__subcmd__show__subcmd__config"
                ;;
            toolctl,smtp)
                cmd="toolctl__subcmd__smtp"
                ;;
            toolctl,tail)
                cmd="toolctl__subcmd__tail"
                ;;
            toolctl__subcmd__config,get)
                cmd="toolctl__subcmd__config__subcmd__get"
                ;;
            toolctl__subcmd__config,help)
                cmd="toolctl__subcmd__config__subcmd__help"
                ;;
            toolctl__subcmd__config,set)
                cmd="toolctl__subcmd__config__subcmd__set"
                ;;
            toolctl__subcmd__config,unset)
                cmd="toolctl__subcmd__config__subcmd__unset"
                ;;
            toolctl__subcmd__config__subcmd__help,get)
                cmd="toolctl__subcmd__config__subcmd__help__subcmd__get"
                ;;
            toolctl__subcmd__config__subcmd__help,help)
                cmd="toolctl__subcmd__config__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__config__subcmd__help,set)
                cmd="toolctl__subcmd__config__subcmd__help__subcmd__set"
                ;;
            toolctl__subcmd__config__subcmd__help,unset)
                cmd="toolctl__subcmd__config__subcmd__help__subcmd__unset"
                ;;
            toolctl__subcmd__help,check)
                cmd="toolctl__subcmd__help__subcmd__check"
                ;;
            toolctl__subcmd__help,completions)
                cmd="toolctl__subcmd__help__subcmd__completions"
                ;;
            toolctl__subcmd__help,config)
                cmd="toolctl__subcmd__help__subcmd__config"
                ;;
            toolctl__subcmd__help,help)
                cmd="toolctl__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__help,incoming-email)
                cmd="toolctl__subcmd__help__subcmd__incoming__subcmd__email"
                ;;
            toolctl__subcmd__help,mailroom)
                cmd="toolctl__subcmd__help__subcmd__mailroom"
                ;;
            toolctl__subcmd__help,man)
                cmd="toolctl__subcmd__help__subcmd__man"
                ;;
            toolctl__subcmd__help,mattermost)
                cmd="toolctl__subcmd__help__subcmd__mattermost"
                ;;
            toolctl__subcmd__help,microsoft-graph-mailer)
                cmd="toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer"
                ;;
            toolctl__subcmd__help,reconfigure)
                cmd="toolctl__subcmd__help__subcmd__reconfigure"
                ;;
            toolctl__subcmd__help,redis)
                cmd="toolctl__subcmd__help__subcmd__redis"
                ;;
            toolctl__subcmd__help,secrets)
                cmd="toolctl__subcmd__help__subcmd__secrets"
                ;;
            toolctl__subcmd__help,service-desk-email)
                cmd="toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email"
                ;;
            toolctl__subcmd__help,show-config)
                cmd="toolctl__subcmd__help__subcmd__show__subcmd__config"
                ;;
            toolctl__subcmd__help,smtp)
                cmd="toolctl__subcmd__help__subcmd__smtp"
                ;;
            toolctl__subcmd__help,tail)
                cmd="toolctl__subcmd__help__subcmd__tail"
                ;;
            toolctl__subcmd__help__subcmd__config,get)
                cmd="toolctl__subcmd__help__subcmd__config__subcmd__get"
                ;;
            toolctl__subcmd__help__subcmd__config,set)
                cmd="toolctl__subcmd__help__subcmd__config__subcmd__set"
                ;;
            toolctl__subcmd__help__subcmd__config,unset)
                cmd="toolctl__subcmd__help__subcmd__config__subcmd__unset"
                ;;
            toolctl__subcmd__help__subcmd__incoming__subcmd__email,check)
                cmd="toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__check"
                ;;
            toolctl__subcmd__help__subcmd__incoming__subcmd__email,secret)
                cmd="toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__help__subcmd__mailroom,secret)
                cmd="toolctl__subcmd__help__subcmd__mailroom__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__mailroom__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__mailroom__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__mailroom__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__mailroom__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__mailroom__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__mailroom__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__help__subcmd__mattermost,secret)
                cmd="toolctl__subcmd__help__subcmd__mattermost__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__mattermost__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__mattermost__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__mattermost__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__mattermost__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__mattermost__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__mattermost__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer,check)
                cmd="toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__check"
                ;;
            toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer,secret)
                cmd="toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__help__subcmd__redis,secret)
                cmd="toolctl__subcmd__help__subcmd__redis__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__redis__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__redis__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__redis__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__redis__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__redis__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__redis__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__help__subcmd__secrets,init)
                cmd="toolctl__subcmd__help__subcmd__secrets__subcmd__init"
                ;;
            toolctl__subcmd__help__subcmd__secrets,rekey)
                cmd="toolctl__subcmd__help__subcmd__secrets__subcmd__rekey"
                ;;
            toolctl__subcmd__help__subcmd__secrets,status)
                cmd="toolctl__subcmd__help__subcmd__secrets__subcmd__status"
                ;;
            toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email,check)
                cmd="toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__check"
                ;;
            toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email,secret)
                cmd="toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__help__subcmd__smtp,check)
                cmd="toolctl__subcmd__help__subcmd__smtp__subcmd__check"
                ;;
            toolctl__subcmd__help__subcmd__smtp,secret)
                cmd="toolctl__subcmd__help__subcmd__smtp__subcmd__secret"
                ;;
            toolctl__subcmd__help__subcmd__smtp__subcmd__secret,edit)
                cmd="toolctl__subcmd__help__subcmd__smtp__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__help__subcmd__smtp__subcmd__secret,show)
                cmd="toolctl__subcmd__help__subcmd__smtp__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__help__subcmd__smtp__subcmd__secret,write)
                cmd="toolctl__subcmd__help__subcmd__smtp__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__incoming__subcmd__email,check)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__check"
                ;;
            toolctl__subcmd__incoming__subcmd__email,help)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help"
                ;;
            toolctl__subcmd__incoming__subcmd__email,secret)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__help,check)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__check"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__help,help)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__help,secret)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret,edit)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret,help)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret,show)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret,write)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            toolctl__subcmd__mailroom,help)
                cmd="toolctl__subcmd__mailroom__subcmd__help"
                ;;
            toolctl__subcmd__mailroom,secret)
                cmd="toolctl__subcmd__mailroom__subcmd__secret"
                ;;
            toolctl__subcmd__mailroom__subcmd__help,help)
                cmd="toolctl__subcmd__mailroom__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__mailroom__subcmd__help,secret)
                cmd="toolctl__subcmd__mailroom__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__mailroom__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__mailroom__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__mailroom__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__mailroom__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__mailroom__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__mailroom__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret,edit)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret,help)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret,show)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret,write)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__mailroom__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            toolctl__subcmd__mattermost,help)
                cmd="toolctl__subcmd__mattermost__subcmd__help"
                ;;
            toolctl__subcmd__mattermost,secret)
                cmd="toolctl__subcmd__mattermost__subcmd__secret"
                ;;
            toolctl__subcmd__mattermost__subcmd__help,help)
                cmd="toolctl__subcmd__mattermost__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__mattermost__subcmd__help,secret)
                cmd="toolctl__subcmd__mattermost__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__mattermost__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__mattermost__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__mattermost__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__mattermost__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__mattermost__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__mattermost__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret,edit)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret,help)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret,show)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret,write)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__mattermost__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer,check)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__check"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer,help)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer,secret)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help,check)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__check"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help,help)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help,secret)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,edit)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,help)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,show)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret,write)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            toolctl__subcmd__redis,help)
                cmd="toolctl__subcmd__redis__subcmd__help"
                ;;
            toolctl__subcmd__redis,secret)
                cmd="toolctl__subcmd__redis__subcmd__secret"
                ;;
            toolctl__subcmd__redis__subcmd__help,help)
                cmd="toolctl__subcmd__redis__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__redis__subcmd__help,secret)
                cmd="toolctl__subcmd__redis__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__redis__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__redis__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__redis__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__redis__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__redis__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__redis__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__redis__subcmd__secret,edit)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__redis__subcmd__secret,help)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__redis__subcmd__secret,show)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__redis__subcmd__secret,write)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__redis__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__redis__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__redis__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__redis__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            toolctl__subcmd__secrets,help)
                cmd="toolctl__subcmd__secrets__subcmd__help"
                ;;
            toolctl__subcmd__secrets,init)
                cmd="toolctl__subcmd__secrets__subcmd__init"
                ;;
            toolctl__subcmd__secrets,rekey)
                cmd="toolctl__subcmd__secrets__subcmd__rekey"
                ;;
            toolctl__subcmd__secrets,status)
                cmd="toolctl__subcmd__secrets__subcmd__status"
                ;;
            toolctl__subcmd__secrets__subcmd__help,help)
                cmd="toolctl__subcmd__secrets__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__secrets__subcmd__help,init)
                cmd="toolctl__subcmd__secrets__subcmd__help__subcmd__init"
                ;;
            toolctl__subcmd__secrets__subcmd__help,rekey)
                cmd="toolctl__subcmd__secrets__subcmd__help__subcmd__rekey"
                ;;
            toolctl__subcmd__secrets__subcmd__help,status)
                cmd="toolctl__subcmd__secrets__subcmd__help__subcmd__status"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email,check)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__check"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email,help)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email,secret)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help,check)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__check"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help,help)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help,secret)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,edit)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,help)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,show)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret,write)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            toolctl__subcmd__smtp,check)
                cmd="toolctl__subcmd__smtp__subcmd__check"
                ;;
            toolctl__subcmd__smtp,help)
                cmd="toolctl__subcmd__smtp__subcmd__help"
                ;;
            toolctl__subcmd__smtp,secret)
                cmd="toolctl__subcmd__smtp__subcmd__secret"
                ;;
            toolctl__subcmd__smtp__subcmd__help,check)
                cmd="toolctl__subcmd__smtp__subcmd__help__subcmd__check"
                ;;
            toolctl__subcmd__smtp__subcmd__help,help)
                cmd="toolctl__subcmd__smtp__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__smtp__subcmd__help,secret)
                cmd="toolctl__subcmd__smtp__subcmd__help__subcmd__secret"
                ;;
            toolctl__subcmd__smtp__subcmd__help__subcmd__secret,edit)
                cmd="toolctl__subcmd__smtp__subcmd__help__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__smtp__subcmd__help__subcmd__secret,show)
                cmd="toolctl__subcmd__smtp__subcmd__help__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__smtp__subcmd__help__subcmd__secret,write)
                cmd="toolctl__subcmd__smtp__subcmd__help__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__smtp__subcmd__secret,edit)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__edit"
                ;;
            toolctl__subcmd__smtp__subcmd__secret,help)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__help"
                ;;
            toolctl__subcmd__smtp__subcmd__secret,show)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__show"
                ;;
            toolctl__subcmd__smtp__subcmd__secret,write)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__write"
                ;;
            toolctl__subcmd__smtp__subcmd__secret__subcmd__help,edit)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__edit"
                ;;
            toolctl__subcmd__smtp__subcmd__secret__subcmd__help,help)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__help"
                ;;
            toolctl__subcmd__smtp__subcmd__secret__subcmd__help,show)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__show"
                ;;
            toolctl__subcmd__smtp__subcmd__secret__subcmd__help,write)
                cmd="toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__write"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        toolctl)
            opts="-q -v -h -V --root --config --quiet --verbose --color --help --version secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__check)
            opts="-q -v -h --timeout --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__completions)
            opts="-q -v -h --root --config --quiet --verbose --color --help bash zsh fish"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config)
            opts="-q -v -h --root --config --quiet --verbose --color --help get set unset help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__get)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__help)
            opts="get set unset help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__help__subcmd__get)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__help__subcmd__set)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__help__subcmd__unset)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__set)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__config__subcmd__unset)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help)
            opts="secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__config)
            opts="get set unset"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__config__subcmd__get)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__config__subcmd__set)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__config__subcmd__unset)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__incoming__subcmd__email)
            opts="secret check"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mailroom)
            opts="secret"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mailroom__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mailroom__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mailroom__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mailroom__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__man)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mattermost)
            opts="secret"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mattermost__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mattermost__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mattermost__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__mattermost__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer)
            opts="secret check"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__reconfigure)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__redis)
            opts="secret"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__redis__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__redis__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__redis__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__redis__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__secrets)
            opts="init status rekey"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__secrets__subcmd__init)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__secrets__subcmd__rekey)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__secrets__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email)
            opts="secret check"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__show__subcmd__config)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__smtp)
            opts="secret check"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__smtp__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__smtp__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__smtp__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__smtp__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__smtp__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__help__subcmd__tail)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__check)
            opts="-q -v -h --timeout --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help)
            opts="secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__incoming__subcmd__email__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__help)
            opts="secret help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mailroom__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__man)
            opts="-q -v -h --out-dir --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --out-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__help)
            opts="secret help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__mattermost__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__check)
            opts="-q -v -h --timeout --output-format --send-to --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --send-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help)
            opts="secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__microsoft__subcmd__graph__subcmd__mailer__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__reconfigure)
            opts="-q -v -h --dry-run --diff --exit-code --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__help)
            opts="secret help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__redis__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets)
            opts="-q -v -h --root --config --quiet --verbose --color --help init status rekey help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__help)
            opts="init status rekey help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__help__subcmd__init)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__help__subcmd__rekey)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__help__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__init)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__rekey)
            opts="-q -v -h --new-key --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__secrets__subcmd__status)
            opts="-q -v -h --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__check)
            opts="-q -v -h --timeout --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help)
            opts="secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__service__subcmd__desk__subcmd__email__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__show__subcmd__config)
            opts="-q -v -h --output-format --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp)
            opts="-q -v -h --root --config --quiet --verbose --color --help secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__check)
            opts="-q -v -h --timeout --output-format --send-to --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-format)
                    COMPREPLY=($(compgen -W "human json" -- "${cur}"))
                    return 0
                    ;;
                --send-to)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help)
            opts="secret check help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help__subcmd__secret)
            opts="show edit write"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help__subcmd__secret__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help__subcmd__secret__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__help__subcmd__secret__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret)
            opts="-q -v -h --root --config --quiet --verbose --color --help show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__edit)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__help)
            opts="show edit write help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__show)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__help__subcmd__write)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 5 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__show)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__smtp__subcmd__secret__subcmd__write)
            opts="-q -v -h --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        toolctl__subcmd__tail)
            opts="-n -q -v -h --lines --prefix --grep --root --config --quiet --verbose --color --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --lines)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -n)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --grep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _toolctl -o nosort -o bashdefault -o default toolctl
else
    complete -F _toolctl -o bashdefault -o default toolctl
fi
