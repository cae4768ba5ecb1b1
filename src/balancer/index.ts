import type { BalancerSettings } from '../topology/types.ts';
import { type CommandOptions, openCommandBalancer } from './command.ts';
import { type HaproxyOptions, openHaproxyBalancer } from './haproxy.ts';
import type { Balancer } from './types.ts';

export type { Balancer, ServerState } from './types.ts';

/** Options of every kind of balancer; each kind reads the ones it knows. */
export type OpenBalancerOptions = HaproxyOptions & CommandOptions;

/**
 * The balancers by `balancer.kind` (docs/topology.md, "Load balancers"). Adding one: a module with
 * its `open…Balancer(settings, o)`, its kind in BalancerSettings (src/topology/types.ts), and one
 * entry here.
 */
export const balancers: {
  [K in BalancerSettings['kind']]: (
    settings: Extract<BalancerSettings, { kind: K }>,
    o: OpenBalancerOptions,
  ) => Balancer;
} = {
  haproxy: openHaproxyBalancer,
  command: openCommandBalancer,
};

/** The balancer a deployment's `balancer` settings name. Opening connects to nothing yet. */
export function openBalancer(settings: BalancerSettings, o: OpenBalancerOptions = {}): Balancer {
  const open = balancers[settings.kind] as (
    s: BalancerSettings,
    o: OpenBalancerOptions,
  ) => Balancer;
  return open(settings, o);
}
