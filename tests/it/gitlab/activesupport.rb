# GitLab's encrypted settings, done by Ruby's own ActiveSupport (the tests' reference).
#
#   ruby activesupport.rb encrypt KEY_BASE_FILE IN OUT   # IN: YAML text, OUT: .yaml.enc
#   ruby activesupport.rb decrypt KEY_BASE_FILE IN OUT   # IN: .yaml.enc, OUT: YAML text
#
# The key base and the contents travel in files, never in argv. The key is derived as
# Gitlab::EncryptedConfiguration does: KeyGenerator (PBKDF2-HMAC-SHA1, 2**16 iterations)
# with the salt "GitLabEncryptedConfigSalt", and MessageEncryptor aes-256-gcm with
# ActiveSupport's Marshal serializer.
require 'active_support'
require 'active_support/message_encryptor'
require 'active_support/key_generator'
require 'openssl'

mode, base_file, input, output = ARGV
base = File.read(base_file).strip
generator = ActiveSupport::KeyGenerator.new(base, iterations: 2**16, hash_digest_class: OpenSSL::Digest::SHA1)
key = generator.generate_key('GitLabEncryptedConfigSalt', ActiveSupport::MessageEncryptor.key_len('aes-256-gcm'))
encryptor = ActiveSupport::MessageEncryptor.new(key, cipher: 'aes-256-gcm', serializer: Marshal)
case mode
when 'encrypt'
  File.binwrite(output, encryptor.encrypt_and_sign(File.read(input, encoding: 'UTF-8')))
when 'decrypt'
  File.binwrite(output, encryptor.decrypt_and_verify(File.binread(input)))
else
  abort "usage: #{$PROGRAM_NAME} encrypt|decrypt KEY_BASE_FILE IN OUT"
end
