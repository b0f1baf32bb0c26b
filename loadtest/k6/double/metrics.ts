/** Test double of k6/metrics: a Trend that keeps what is added. */
export class Trend {
  readonly values: number[] = [];
  constructor(readonly name: string) {}
  add(value: number): void {
    this.values.push(value);
  }
}
