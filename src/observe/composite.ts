// Several observers of exchanges (audit, metrics, tracing) behind the listener's one slot. With
// none there is no observer at all, so the listener makes no ExchangeRecord.
import type { ExchangeObserver } from '../http/listener.ts';

export function combineObservers(...candidates: Array<ExchangeObserver | undefined>): ExchangeObserver | undefined {
  const observers = candidates.filter((o): o is ExchangeObserver => o !== undefined);
  if (observers.length <= 1) return observers[0];
  const beginners = observers.filter((o) => o.begin !== undefined);
  const forwarders = observers.filter((o) => o.forwarded !== undefined);
  return {
    // The record keeps the most any of them needs.
    captureBytes: (api) => observers.reduce((most, o) => Math.max(most, o.captureBytes(api)), 0),
    begin: beginners.length === 0 ? undefined : (record) => {
      for (const o of beginners) o.begin!(record);
    },
    complete: (record, status) => {
      for (const o of observers) o.complete(record, status);
    },
    forwarded: forwarders.length === 0 ? undefined : (record, status) => {
      for (const o of forwarders) o.forwarded!(record, status);
    },
  };
}
