// `harden ports` for people (a table in MicroK8s' own terms) and machines (one JSON document).
import type { Exposure, ExposureRow, Verdict } from '../core/exposure.js';
import { listenerText } from '../core/exposure.js';
import type { NodeModel } from '../core/node.js';
import type { Palette } from './color.js';
import { jsonText, shown } from './terminal-text.js';
import { largest } from '../core/lists.js';

export interface PortsShown {
  readonly root: string;
  readonly model: NodeModel | null;
  /** Why the configuration is unknown (no MicroK8s found), or null. */
  readonly unknownBecause: string | null;
  readonly exposure: Exposure;
  readonly listenersAvailable: boolean;
}

const VERDICTS: Record<Verdict, string> = {
  fine: 'fine',
  exposed: 'EXPOSED',
  unexpected: 'UNEXPECTED',
  unknown: 'unknown',
};

const ACCESS: Record<string, string> = {
  none: 'none',
  tls: 'TLS',
  'tls-client-cert': 'TLS + client cert',
  'tls-authn': 'TLS + authn',
  token: 'token',
  socket: 'socket',
};

function bindText(row: ExposureRow): string {
  const c = row.configured;
  if (!c) return 'unknown';
  if (c.port === null) return c.socket ? 'socket' : 'random ports';
  return `${c.bind ?? 'off'}${c.source.byDefault ? ' (default)' : ''}`;
}

function listeningText(row: ExposureRow, available: boolean): string {
  if (row.port === null) return '-';
  if (!available || row.listening === null) return available ? '-' : 'unknown';
  return row.listening.length === 0 ? 'no' : [...new Set(row.listening.map((l) => l.address))].join(', ');
}

function accessText(row: ExposureRow): string {
  const c = row.configured;
  if (!c) return 'unknown';
  const label = ACCESS[c.access.kind] ?? c.access.kind;
  return c.unauthenticated && c.access.kind !== 'none' ? `${label}, anonymous` : label;
}

function serviceText(row: ExposureRow): string {
  return row.configured ? row.configured.service.replace(/^snap\.microk8s\.daemon-/, '') : '-';
}

export function portsText(shownPorts: PortsShown, color: Palette): string {
  const { model, exposure } = shownPorts;
  const node = model ? `MicroK8s ${model.report.version ?? 'version unknown'}, ${model.report.era} era, ${model.report.role}` : 'configuration unknown';
  const out = [color.bold(`Ports of ${shown(shownPorts.root)} (${shown(node)})`), ''];
  if (!model) out.push(`The configuration is unknown: ${shown(shownPorts.unknownBecause ?? 'no MicroK8s args files')}`, "Only what listens on MicroK8s' port numbers is shown.", '');
  if (!shownPorts.listenersAvailable) out.push(`No proc/net/tcp in this root (an offline copy): what listens cannot be seen; verdicts follow the configuration.`, '');
  const header = ['PORT', 'WHAT', 'SERVICE', 'BIND', 'LISTENING', 'ACCESS', 'VERDICT'];
  const rows = exposure.rows.map((row) => [
    row.port === null ? '-' : String(row.port),
    row.what.replace(/ \(.*\)$/, ''),
    serviceText(row),
    bindText(row),
    listeningText(row, shownPorts.listenersAvailable),
    accessText(row),
    VERDICTS[row.verdict],
  ].map(shown));
  const widths = header.map((title, i) => Math.min(largest(rows.map((r) => r[i].length), title.length), 36));
  const cell = (text: string, i: number) => (text.length > widths[i] ? `${text.slice(0, widths[i] - 1)}…` : text.padEnd(widths[i]));
  out.push(header.map(cell).join('  ').trimEnd());
  for (const [index, row] of rows.entries()) {
    const line = row.map(cell).join('  ').trimEnd();
    const verdict = exposure.rows[index].verdict;
    out.push(verdict === 'exposed' || verdict === 'unexpected' ? color.red(line) : line);
  }
  const judged = exposure.rows.filter((row) => row.verdict !== 'fine');
  if (judged.length > 0) {
    out.push('');
    for (const row of judged) out.push(`${VERDICTS[row.verdict]}: ${row.port ?? '-'} ${shown(row.what)}: ${shown(row.reason)}`);
  }
  if (exposure.others.length > 0) out.push('', `Also listening, not MicroK8s ports: ${shown(exposure.others.map(listenerText).join(', '))}`);
  out.push('', 'harden ports --json gives each setting\'s source (flag and line, or the default for this version) and what MicroK8s documents.');
  return `${out.join('\n')}\n`;
}

export function portsJson(shown: PortsShown): string {
  const document = {
    root: shown.root,
    version: shown.model?.report.version ?? null,
    era: shown.model?.report.era ?? null,
    role: shown.model?.report.role ?? null,
    configuration: shown.model ? 'known' : 'unknown',
    configurationUnknownBecause: shown.unknownBecause,
    listeners: shown.listenersAvailable ? 'available' : 'unavailable',
    ports: shown.exposure.rows.map((row) => ({
      port: row.port,
      what: row.what,
      id: row.configured?.id ?? null,
      service: row.configured?.service ?? null,
      component: row.configured?.component ?? null,
      socket: row.configured?.socket ?? null,
      bind: row.configured ? row.configured.bind : null,
      source: row.configured?.source ?? null,
      access: row.configured?.access ?? null,
      unauthenticated: row.configured?.unauthenticated ?? null,
      documented: row.configured?.documented ?? null,
      listening: row.listening === null ? null : row.listening.map((l) => ({ family: l.family, address: l.address, port: l.port })),
      verdict: row.verdict,
      reason: row.reason,
    })),
    others: shown.exposure.others.map((l) => ({ family: l.family, address: l.address, port: l.port })),
  };
  return `${jsonText(document)}\n`;
}
