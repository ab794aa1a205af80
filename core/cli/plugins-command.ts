// `kpipe plugins`: every plugin kpipe knows, where it came from (built in, or which entry of which
// config file and the module it resolved to), which stages use it, and which hooks of core/hooks.ts
// it tapped while planning. A plugin no active `use` names was not applied, so it tapped nothing.
import type { Session } from '../loading/session.js';
import { describeOrigin } from '../loading/plugin-registry.js';

export function pluginsCommand(session: Session, cwd: string): number {
  const lines: string[] = [];
  lines.push(`config: ${session.registry.configFile ?? 'none (no kpipe config file from the output tree upwards)'}`, '');
  for (const entry of session.registry.all()) {
    const name = entry.plugin.name;
    const uses = session.stageGraph.stages.flatMap((s) => s.uses.filter((u) => u.plugin === name).map((u) => `${s.name}${u.active ? '' : ' (off)'}`));
    const active = session.stageGraph.stages.some((s) => s.uses.some((u) => u.plugin === name && u.active));
    const taps = session.plan.taps.get(name) ?? [];
    lines.push(`${name.padEnd(14)} ${describeOrigin(entry.origin, cwd)}`);
    if (entry.origin.kind === 'config') lines.push(`  module:  ${entry.origin.module}`);
    if (entry.plugin.description) lines.push(`  ${entry.plugin.description}`);
    lines.push(`  used in: ${uses.length > 0 ? uses.join(', ') : 'no stage'}`);
    lines.push(`  taps:    ${taps.length > 0 ? taps.join(', ') : active ? 'nothing' : 'nothing (not active)'}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
