/**
 * The success rate of the last `capacity` trials (a fixed-size window, as a `collections.deque(maxlen=k)` of
 * booleans). @internal
 */
export class SlidingRate {
  private readonly values: Uint8Array;
  private count = 0;
  private next = 0;
  private sum = 0;

  constructor(readonly capacity: number) {
    this.values = new Uint8Array(capacity);
  }

  /** Records one trial (1 = success), dropping the oldest when full. */
  push(value: number): void {
    const v = value === 1 ? 1 : 0;
    if (this.count === this.capacity) this.sum -= this.values[this.next];
    else this.count++;
    this.values[this.next] = v;
    this.sum += v;
    this.next = (this.next + 1) % this.capacity;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  clear(): void {
    this.count = 0;
    this.next = 0;
    this.sum = 0;
  }
}
