/** Reasons a password is refused, each one a sentence the user can act on. Empty: acceptable. */
export function passwordProblems(password: string, email: string): string[] {
  const problems: string[] = [];
  if (password.length < 12) problems.push('must be at least 12 characters long');
  // bcrypt reads only the first 72 bytes; refuse longer passwords rather than silently truncate.
  if (Buffer.byteLength(password, 'utf8') > 72) problems.push('must be at most 72 bytes long');
  if (!/\p{L}/u.test(password) || !/\p{N}/u.test(password))
    problems.push('must contain at least one letter and one digit');
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 4 && password.toLowerCase().includes(local)) problems.push('must not contain your email name');
  if (/^(.)\1+$/.test(password)) problems.push('must not be one repeated character');
  return problems;
}
