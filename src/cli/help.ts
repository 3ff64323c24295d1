import { EXIT_CODE_MEANINGS, type Command } from '../output/exit-codes.js';

/** The --help epilog of a command's exit codes, made from the one list of them. */
export function exitCodeHelp(command: Command): string {
  const lines = EXIT_CODE_MEANINGS.filter((entry) => entry.commands.includes(command)).map(({ code, meaning }) => {
    const [first, ...rest] = meaning.split('\n');
    const label = code.length > 3 ? `${code}  ` : code.padEnd(4);
    return [`  ${label}${first}`, ...rest.map((line) => `      ${line}`)].join('\n');
  });
  return `Exit codes:\n${lines.join('\n')}`;
}

export const ENV_HELP = `Environment:
  DS100_KEY_FILE      the console's API key file (or --key-file)
  DS100_OAUTH_CLIENT  an OAuth API client file (or --oauth-client)
  DS100_TOKEN         a ready bearer token instead (it cannot be renewed)
  DS100_BASE_URL      the adminRestApiUrl (--base-url); default: the key file's
  HTTPS_PROXY         proxy for https (HTTP_PROXY for http); NO_PROXY: go direct
  NODE_EXTRA_CA_CERTS PEM file of extra CA certificates (private CA, TLS proxy)`;
