/** Test double of k6/metrics: a Trend and a Rate that keep what is added. */
export class Trend {
  readonly values: number[] = [];
  constructor(readonly name: string) {}
  add(value: number): void {
    this.values.push(value);
  }
}

/** Test double of k6's Rate: keeps each value as true or false. */
export class Rate {
  readonly values: boolean[] = [];
  constructor(readonly name: string) {}
  add(value: boolean | number): void {
    this.values.push(Boolean(value));
  }
}
