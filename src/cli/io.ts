/** What a command may touch of the process: output streams and the environment. */
export interface Io {
  stdout(text: string): void;
  /**
   * Bytes for stdout, when the output can take them as they are: a document of tens of megabytes
   * then never becomes one string to encode again (`ipvs --output json`).
   */
  stdoutBytes?(bytes: Uint8Array): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stdoutBytes: (bytes) => process.stdout.write(bytes),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};
