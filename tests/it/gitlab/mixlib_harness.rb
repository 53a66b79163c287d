# A stand-in for how GitLab's Linux package reads /etc/gitlab/gitlab.rb, written for
# toolctl's tests on Debian's ruby-mixlib-config: a Mixlib::Config module in strict mode,
# with the service hashes toolctl's fragment touches as configurables and `external_url`
# as a method. It evaluates files; it renders nothing.
#
#   ruby mixlib_harness.rb ROOT omnibus          # from_file "/etc/gitlab/gitlab.rb"
#   ruby mixlib_harness.rb ROOT docker ENV_FILE  # eval ENV_FILE's text (as the image does
#                                                # with GITLAB_OMNIBUS_CONFIG), then the same
#
# ROOT stands for `/`: every absolute path given to `from_file` or `File.read` is read
# under it. Prints the evaluated settings as JSON on stdout.
require 'json'
require 'mixlib/config'

HARNESS_ROOT = ARGV.fetch(0)
MODE = ARGV.fetch(1)

def under_root(path)
  path = path.to_s
  path.start_with?('/') ? File.join(HARNESS_ROOT, path) : path
end

# `File.read("/…")` inside an evaluated file reads under ROOT.
module RootedRead
  def read(path, *args, **kw)
    super(under_root(path), *args, **kw)
  end
end
File.singleton_class.prepend(RootedRead)

module HarnessConfig
  extend Mixlib::Config
  config_strict_mode true

  %i[gitlab_rails nginx mailroom mattermost mattermost_nginx].each do |name|
    default name, {}
  end

  def self.external_url(url = nil)
    @external_url = url unless url.nil?
    @external_url
  end

  def self.from_file(path)
    super(under_root(path))
  end
end

if MODE == 'docker'
  HarnessConfig.instance_eval(File.open(ARGV.fetch(2), &:read), 'GITLAB_OMNIBUS_CONFIG', 1)
elsif MODE != 'omnibus'
  abort "unknown mode #{MODE}"
end
HarnessConfig.from_file('/etc/gitlab/gitlab.rb')

puts JSON.pretty_generate(
  'external_url' => HarnessConfig.external_url,
  'gitlab_rails' => HarnessConfig.gitlab_rails,
  'nginx' => HarnessConfig.nginx,
  'mailroom' => HarnessConfig.mailroom
)
