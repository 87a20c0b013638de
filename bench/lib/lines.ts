/**
 * Reading a child's stdout line by line.
 *
 * @module
 */

/** An async queue of the lines a stream carries; `next()` resolves with null at its end. */
export class LineReader {
  #lines: string[] = [];
  #waiting: ((line: string | null) => void)[] = [];
  #ended = false;
  /** Resolves once the stream has been read to its end. */
  readonly done: Promise<void>;

  /** @param stream The bytes to split into lines (read in the background). */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      rest += text;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        this.#push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
    if (rest) this.#push(rest);
    this.#ended = true;
    for (const w of this.#waiting.splice(0)) w(null);
  }

  #push(line: string): void {
    const w = this.#waiting.shift();
    if (w) w(line);
    else this.#lines.push(line);
  }

  /** The next line, or null once the stream has ended. */
  next(): Promise<string | null> {
    if (this.#lines.length) return Promise.resolve(this.#lines.shift()!);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}
