# Loads a rendered smtp_settings.rb under a minimal stub of Rails, ActionMailer and
# Gitlab::Email::SmtpConfig, and prints the settings hash it assigns as JSON.
#
#   ruby smtp_stub.rb SMTP_SETTINGS_RB
#
# The stub's secrets answer `username` and `password`, the methods GitLab's
# lib/gitlab/email/smtp_config.rb defines (the file's keys are `user_name` and `password`):
# a renderer calling anything else fails here with NoMethodError.
require 'json'

module Rails
  def self.env
    Struct.new(:production?).new(true)
  end
end

module ActionMailer
  class Base
    class << self
      attr_accessor :smtp_settings, :delivery_method
    end
  end
end

module Gitlab
  module Email
    class SmtpConfig
      def self.secrets
        new
      end

      def username
        'stub-user'
      end

      def password
        'stub-password'
      end
    end
  end

  class Application
    def self.config
      @config ||= Struct.new(:action_mailer).new(Struct.new(:delivery_method).new)
    end
  end
end

load ARGV.fetch(0)
settings = ActionMailer::Base.smtp_settings.transform_values { |v| v.is_a?(Symbol) ? ":#{v}" : v }
puts JSON.generate(
  'smtp_settings' => settings,
  'delivery_method' => ActionMailer::Base.delivery_method.to_s,
  'application_delivery_method' => Gitlab::Application.config.action_mailer.delivery_method.to_s
)
