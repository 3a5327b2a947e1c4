import { useSyncExternalStore } from "react";

export type Listener = () => void;

/** A minimal observable state container; stores extend it and expose intent methods. */
export class Store<S> {
  private state: S;
  private readonly listeners = new Set<Listener>();

  constructor(initial: S) {
    this.state = initial;
  }

  getState = (): S => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  protected setState(next: S | ((prev: S) => S)): void {
    const value = typeof next === "function" ? (next as (prev: S) => S)(this.state) : next;
    if (Object.is(value, this.state)) return;
    this.state = value;
    for (const listener of [...this.listeners]) listener();
  }
}

/** Subscribes a component to a store; re-renders only when the selected value changes. */
export function useStore<S, T>(store: Store<S>, select: (state: S) => T): T {
  return useSyncExternalStore(
    store.subscribe,
    () => select(store.getState()),
    () => select(store.getState()),
  );
}

/** A store whose value anyone holding it may replace (view state, preferences). */
export class ValueStore<S> extends Store<S> {
  set(next: S | ((prev: S) => S)): void {
    this.setState(next);
  }
}
