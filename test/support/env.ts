/** A service address the test run must provide; a missing one fails the test loudly, naming what to do. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the suite with \`npm test\` (it starts the services), ` +
        `or point ${name} at your own service`,
    );
  }
  return value;
}
