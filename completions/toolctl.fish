# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_toolctl_global_optspecs
    string join \n root= config= q/quiet v/verbose color= h/help V/version
end

function __fish_toolctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_toolctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_toolctl_using_subcommand
    set -l cmd (__fish_toolctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c toolctl -n "__fish_toolctl_needs_command" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_needs_command" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_needs_command" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_needs_command" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_needs_command" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_needs_command" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_needs_command" -s V -l version -d 'Print version'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "secrets" -d 'The secrets store as a whole: create the key, report, re-encrypt'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "smtp" -d 'The outgoing SMTP relay: its credentials (`user_name`, `password`) and a live check'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "incoming-email" -d 'The incoming email mailbox: its credentials (`user`, `password`, `client_secret`) and a live check'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "service-desk-email" -d 'The Service Desk mailbox: its credentials (`user`, `password`, `client_secret`) and a live check'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "microsoft-graph-mailer" -d 'The Microsoft Graph mailer: its credentials (`client_secret`) and a live check'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "mattermost" -d 'Mattermost\'s credentials (`gitlab_secret`, `sql_password`)'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "mailroom" -d 'The mail_room webhook\'s shared secret (`webhook_secret`)'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "redis" -d 'The Redis password (`password`) of `[redis] url`'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "check" -d 'Run every enabled probe at once and report them together (for CI smoke checks)'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "tail" -d 'Follow every log under the log directory, a service\'s directory, or one file'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "reconfigure" -d 'Render toolctl.toml and the secrets into the files the services read'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "show-config" -d 'Print the effective settings: defaults filled in, secrets masked, each value\'s source'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "config" -d 'Read or change one key of toolctl.toml (comments and layout are kept)'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "completions" -d 'Print a shell completion script on stdout'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "man" -d 'Write the man pages (one per command) into a directory'
complete -c toolctl -n "__fish_toolctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -f -a "init" -d 'Create the age key (0600) if it is missing and print its public key'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -f -a "status" -d 'Report every scope: file, present, modified, decrypts with this key'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -f -a "rekey" -d 'Re-encrypt every secret to the current recipients (the key and `[secrets] recipients`)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and not __fish_seen_subcommand_from init status rekey help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from init" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from init" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from init" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -l new-key -d 'Generate a new key first; the old one is kept beside it (0600) until you remove it'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from rekey" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create the age key (0600) if it is missing and print its public key'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from help" -f -a "status" -d 'Report every scope: file, present, modified, decrypts with this key'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from help" -f -a "rekey" -d 'Re-encrypt every secret to the current recipients (the key and `[secrets] recipients`)'
complete -c toolctl -n "__fish_toolctl_using_subcommand secrets; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -f -a "check" -d 'Probe the service live with the settings and secrets GitLab will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and not __fish_seen_subcommand_from secret check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -l timeout -d 'Seconds allowed for each network step' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -l send-to -d 'Also send a small test message to this address, from `email.from`' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from help" -f -a "check" -d 'Probe the service live with the settings and secrets GitLab will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand smtp; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -f -a "secret" -d 'Show, edit or write this mailbox\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -f -a "check" -d 'Probe the mailbox live with the settings and secrets mail_room will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and not __fish_seen_subcommand_from secret check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -l timeout -d 'Seconds allowed for each network step' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this mailbox\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from help" -f -a "check" -d 'Probe the mailbox live with the settings and secrets mail_room will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand incoming-email; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -f -a "secret" -d 'Show, edit or write this mailbox\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -f -a "check" -d 'Probe the mailbox live with the settings and secrets mail_room will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and not __fish_seen_subcommand_from secret check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -l timeout -d 'Seconds allowed for each network step' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this mailbox\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from help" -f -a "check" -d 'Probe the mailbox live with the settings and secrets mail_room will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand service-desk-email; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -f -a "check" -d 'Probe the service live with the settings and secrets GitLab will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and not __fish_seen_subcommand_from secret check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -l timeout -d 'Seconds allowed for each network step' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -l send-to -d 'Also send a small test message to this address, from `email.from`' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from help" -f -a "check" -d 'Probe the service live with the settings and secrets GitLab will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand microsoft-graph-mailer; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and not __fish_seen_subcommand_from secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand mattermost; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and not __fish_seen_subcommand_from secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand mailroom; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and not __fish_seen_subcommand_from secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -f -a "show" -d 'Decrypt the secret and print its YAML on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -f -a "edit" -d 'Edit the secret in $VISUAL / $EDITOR on a private plaintext copy, then encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -f -a "write" -d 'Read the secret\'s YAML from stdin (all of it, at most 1 MiB), check it, encrypt it'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from secret" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from help" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand redis; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -l timeout -d 'Seconds allowed for each network step' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -s n -l lines -d 'Print the last N lines of each file first' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -l grep -d 'Print only lines matching this regular expression' -r
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -l prefix -d 'Put each line\'s file (relative to TARGET) in front of it instead of `==> file <==` headers'
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l dry-run -d 'Show what would change; write nothing'
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l diff -d 'Show unified diffs of the changes (secrets masked)'
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -l exit-code -d 'With --dry-run: exit 1 when something would change'
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand reconfigure" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -l output-format -d '`human` (a table) or `json` (one document with stable keys, for CI)' -r -f -a "human\t'A table for people'
json\t'One JSON document with stable keys, for CI'"
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand show-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -f -a "get" -d 'Print a key\'s effective value (its default when it is not written)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -f -a "set" -d 'Set a key; the value is checked against the key\'s type and the settings\' rules'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -f -a "unset" -d 'Remove a key from toolctl.toml (its default applies again)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from get" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from get" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from set" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from unset" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a key\'s effective value (its default when it is not written)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a key; the value is checked against the key\'s type and the settings\' rules'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a key from toolctl.toml (its default applies again)'
complete -c toolctl -n "__fish_toolctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand completions" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand completions" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand completions" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand completions" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand completions" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -l out-dir -d 'Where to write `toolctl.1`, `toolctl-secrets.1`, …' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -l root -d 'Treat DIR as the file system root for every path toolctl reads or writes' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -l config -d 'Read settings from FILE instead of <root>/etc/toolctl/toolctl.toml' -r -F
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -l color -d 'When to colour messages on stderr (NO_COLOR is honoured with `auto`)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -s q -l quiet -d 'Print only data, warnings and errors'
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -s v -l verbose -d 'Also print where toolctl looks for its files (settings, key, secrets, output, logs)'
complete -c toolctl -n "__fish_toolctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "secrets" -d 'The secrets store as a whole: create the key, report, re-encrypt'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "smtp" -d 'The outgoing SMTP relay: its credentials (`user_name`, `password`) and a live check'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "incoming-email" -d 'The incoming email mailbox: its credentials (`user`, `password`, `client_secret`) and a live check'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "service-desk-email" -d 'The Service Desk mailbox: its credentials (`user`, `password`, `client_secret`) and a live check'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "microsoft-graph-mailer" -d 'The Microsoft Graph mailer: its credentials (`client_secret`) and a live check'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "mattermost" -d 'Mattermost\'s credentials (`gitlab_secret`, `sql_password`)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "mailroom" -d 'The mail_room webhook\'s shared secret (`webhook_secret`)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "redis" -d 'The Redis password (`password`) of `[redis] url`'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "check" -d 'Run every enabled probe at once and report them together (for CI smoke checks)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "tail" -d 'Follow every log under the log directory, a service\'s directory, or one file'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "reconfigure" -d 'Render toolctl.toml and the secrets into the files the services read'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "show-config" -d 'Print the effective settings: defaults filled in, secrets masked, each value\'s source'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "config" -d 'Read or change one key of toolctl.toml (comments and layout are kept)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "completions" -d 'Print a shell completion script on stdout'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "man" -d 'Write the man pages (one per command) into a directory'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and not __fish_seen_subcommand_from secrets smtp incoming-email service-desk-email microsoft-graph-mailer mattermost mailroom redis check tail reconfigure show-config config completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from secrets" -f -a "init" -d 'Create the age key (0600) if it is missing and print its public key'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from secrets" -f -a "status" -d 'Report every scope: file, present, modified, decrypts with this key'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from secrets" -f -a "rekey" -d 'Re-encrypt every secret to the current recipients (the key and `[secrets] recipients`)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from smtp" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from smtp" -f -a "check" -d 'Probe the service live with the settings and secrets GitLab will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from incoming-email" -f -a "secret" -d 'Show, edit or write this mailbox\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from incoming-email" -f -a "check" -d 'Probe the mailbox live with the settings and secrets mail_room will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from service-desk-email" -f -a "secret" -d 'Show, edit or write this mailbox\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from service-desk-email" -f -a "check" -d 'Probe the mailbox live with the settings and secrets mail_room will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from microsoft-graph-mailer" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from microsoft-graph-mailer" -f -a "check" -d 'Probe the service live with the settings and secrets GitLab will be given'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from mattermost" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from mailroom" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from redis" -f -a "secret" -d 'Show, edit or write this integration\'s encrypted secret'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print a key\'s effective value (its default when it is not written)'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a key; the value is checked against the key\'s type and the settings\' rules'
complete -c toolctl -n "__fish_toolctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a key from toolctl.toml (its default applies again)'
