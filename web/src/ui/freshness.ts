/**
 * "Updated 3 s ago": how old the market view is, recomputed every second. The visible
 * text is not a live region (it would speak every second); changes that matter (the
 * bridge unreachable, back again) are announced once through `announce`.
 */

import { formatAge } from "../lib/durations";

export type FreshState = "loading" | "fresh" | "stale" | "failing";

const STALE_AFTER_SECONDS = 15; // three missed polls

export class Freshness {
  private lastOk: number | null = null;
  private problem: string | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly announce: (text: string) => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  succeeded(): void {
    if (this.problem !== null) this.announce("The market view is up to date again.");
    this.problem = null;
    this.lastOk = this.now();
    this.render();
  }

  failed(words: string): void {
    if (this.problem === null) this.announce(`The market view could not be updated. ${words}`);
    this.problem = words;
    this.render();
  }

  /** Called every second. */
  render(): void {
    const age = this.lastOk === null ? null : Math.floor((this.now() - this.lastOk) / 1000);
    let state: FreshState;
    let text: string;
    if (this.problem !== null) {
      state = "failing";
      text = `Not updating: ${this.problem}${age === null ? "" : ` Last update ${formatAge(age)}.`}`;
    } else if (age === null) {
      state = "loading";
      text = "Loading the market…";
    } else {
      state = age > STALE_AFTER_SECONDS ? "stale" : "fresh";
      text = age < 1 ? "Updated just now" : `Updated ${formatAge(age)}`;
    }
    this.el.dataset["state"] = state;
    this.el.textContent = text;
  }
}
