export interface StudyContext {
  quick: boolean;
  /** One population and one fit per seed; every figure is a mean with its 95% interval over them. */
  seeds: readonly number[];
  log: (message: string) => void;
}

export interface StudyOutput {
  name: string;
  /** Markdown: a heading, what was run, and the table. */
  markdown: string;
  svg: string;
  /** Every figure (per seed and summarized). */
  json: unknown;
  seconds: number;
}
