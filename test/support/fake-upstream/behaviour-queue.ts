/**
 * Which behaviour a fake upstream answers the next request with: a per-model script first, then
 * the global queue, then the model's sticky default, the global default, and the fake's own.
 */
export class BehaviourQueue<B> {
  private readonly queue: B[] = [];
  private readonly scripts = new Map<string, B[]>();
  private readonly modelDefaults = new Map<string, B>();
  private globalDefault: B | undefined;

  /**
   * @param startDefault the global default at start and after reset() (the fake's `defaultBehaviour` option)
   * @param builtIn what answers when nothing else is set
   */
  constructor(
    private readonly startDefault: B | undefined,
    private readonly builtIn: B,
  ) {
    this.globalDefault = startDefault;
  }

  enqueue(...behaviours: B[]): void {
    this.queue.push(...behaviours);
  }

  script(model: string, ...behaviours: B[]): void {
    const list = this.scripts.get(model) ?? [];
    list.push(...behaviours);
    this.scripts.set(model, list);
  }

  setDefault(behaviour: B | undefined, model?: string): void {
    if (model === undefined) this.globalDefault = behaviour;
    else if (behaviour === undefined) this.modelDefaults.delete(model);
    else this.modelDefaults.set(model, behaviour);
  }

  /** Queued behaviours not used yet (global queue plus every model's script). */
  pending(): number {
    let n = this.queue.length;
    for (const list of this.scripts.values()) n += list.length;
    return n;
  }

  /** Takes the next queued behaviour for a request naming this model, or its default. */
  next(model: string): B {
    const scripted = this.scripts.get(model);
    if (scripted && scripted.length > 0) return scripted.shift()!;
    if (this.queue.length > 0) return this.queue.shift()!;
    return this.fallback(model);
  }

  /** The default for this model, queues aside (what a `delay` without `then` answers with). */
  fallback(model: string): B {
    return this.modelDefaults.get(model) ?? this.globalDefault ?? this.builtIn;
  }

  /** Forgets queues, scripts and defaults; the start default comes back. */
  reset(): void {
    this.queue.length = 0;
    this.scripts.clear();
    this.modelDefaults.clear();
    this.globalDefault = this.startDefault;
  }
}
