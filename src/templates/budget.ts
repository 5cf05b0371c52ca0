import { AssertionError } from 'liquidjs';

/** What one request (an API call, a preview, a campaign batch) may spend rendering templates. */
export interface RenderLimits {
  /** Milliseconds of rendering, summed over every recipient of the request. */
  renderTimeMs: number;
  /**
   * What the renders may allocate (a range's elements, a filter's result's characters),
   * summed over every recipient of the request.
   */
  renderMemory: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { renderTimeMs: 2_000, renderMemory: 64_000_000 };

/**
 * One budget shared by every render of a request, handed to liquidjs in place of its own
 * per-render limiters: a tenant cannot multiply the limits by adding recipients (15 recipients
 * at a 2 s limit each would otherwise cost 30 s). Time counts only while a render runs, so
 * building MIME or waiting for the store between recipients costs nothing here.
 */
export class RenderBudget {
  readonly limits: RenderLimits;
  #spentMs = 0;
  #startedAt: number | null = null;
  #used = 0;
  #exhausted = false;

  constructor(limits: Partial<RenderLimits> = {}) {
    this.limits = { ...DEFAULT_RENDER_LIMITS, ...limits };
  }

  /** True once a render was stopped by this budget: later renders of the request fail at once. */
  get exhausted(): boolean {
    return this.#exhausted;
  }

  get spentMs(): number {
    return this.#spentMs + (this.#startedAt === null ? 0 : performance.now() - this.#startedAt);
  }

  get usedMemory(): number {
    return this.#used;
  }

  /** liquidjs calls check(performance.now()) before each node it renders. */
  readonly renderLimit = {
    check: (now: number): void => {
      const spent = this.#spentMs + (this.#startedAt === null ? 0 : now - this.#startedAt);
      if (spent > this.limits.renderTimeMs) this.#fail(`render time limit exceeded: this request's templates may render for ${this.limits.renderTimeMs} ms in all`);
    },
    use: (): void => {},
  };

  /** liquidjs calls use(n) for what a range or a filter allocates, check(n) before one large allocation. */
  readonly memoryLimit = {
    use: (count: number): void => {
      if (!(+count > 0)) return;
      if (this.#used + +count > this.limits.renderMemory) this.#fail(this.#memoryMessage());
      this.#used += +count;
    },
    check: (count: number): void => {
      if (+count > 0 && this.#used + +count > this.limits.renderMemory) this.#fail(this.#memoryMessage());
    },
  };

  /** Runs one render with the clock running. */
  run<T>(render: () => T): T {
    if (this.#exhausted) this.#fail('render budget of this request already spent');
    this.#startedAt = performance.now();
    try {
      return render();
    } finally {
      this.#spentMs += performance.now() - this.#startedAt;
      this.#startedAt = null;
    }
  }

  #memoryMessage(): string {
    return `render memory limit exceeded: this request's templates may allocate ${this.limits.renderMemory.toLocaleString('en')} elements and characters in all`;
  }

  #fail(message: string): never {
    this.#exhausted = true;
    // liquidjs passes its own AssertionError through unchanged, with the position it was at.
    throw new AssertionError(message);
  }
}
