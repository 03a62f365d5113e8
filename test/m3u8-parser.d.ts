declare module 'm3u8-parser' {
  export class Parser {
    manifest: any;
    on(event: string, cb: (arg: any) => void): void;
    push(text: string): void;
    end(): void;
  }
}
