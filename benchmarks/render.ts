// Renders benchmark rows (plain objects) as a Markdown table, columns in first-seen order.
export type Row = Record<string, string | number | boolean | undefined | null>;

function cell(v: Row[string]): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  return String(v).replace(/\|/g, '\\|');
}

export function markdownTable(rows: readonly Row[]): string {
  if (rows.length === 0) return '_no rows_\n';
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const lines = [`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${columns.map((c) => cell(r[c])).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
