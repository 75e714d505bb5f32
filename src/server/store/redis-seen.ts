/**
 * How many publishing nodes a node remembers (`SeenNodes`). A node id is random per process, so
 * every restart in the fleet is a new one: unbounded, a fleet that deploys for months grew the set
 * by one entry per node restart, in every node, for ever.
 */
export const SEEN_NODES_MAX = 1024;

/**
 * Per publishing node, the number of the last fan-out entry this node received (and delivered);
 * this node's own too. Read only by a moved session's `Follow.done`, to learn that every entry its
 * old node delivered to it has reached here live, so it can stop filtering. Forgetting a node is
 * safe: it reads as 0, and `done` then waits for its other sign (this node hearing a live entry
 * published after the session arrived) or for the session to end; the filter itself (`had`) stays
 * exact either way. So the nodes heard from least recently go first: a node that restarted is
 * never heard again, and one still publishing is noted again with its next entry.
 */
export class SeenNodes {
  #last = new Map<string, number>();
  #max: number;

  constructor(max = SEEN_NODES_MAX) {
    this.#max = max;
  }

  /** Node `node` published entry `seq`, delivered here. */
  note(node: string, seq: number): void {
    // Deleted first so that the map's order is the order nodes were last heard in.
    this.#last.delete(node);
    this.#last.set(node, seq);
    if (this.#last.size > this.#max) this.#last.delete(this.#last.keys().next().value!);
  }

  /** The last entry received from `node`; 0 when none, or when it was forgotten. */
  get(node: string): number {
    return this.#last.get(node) ?? 0;
  }

  /** How many nodes are remembered (tests, metrics). */
  get size(): number {
    return this.#last.size;
  }
}
