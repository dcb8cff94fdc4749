// Visible text that holds names. A {name} placeholder always holds a name
// someone typed (a participant's or a meeting's), {names} a list of them;
// T sets each name in <bdi>, so that a name in a right-to-left script, or
// one that starts or ends with digits or punctuation, is laid out on its own
// and cannot reorder the sentence around it ("Ada joined" with an Arabic
// name stays "<name> joined"). Accessible names (aria-label) keep plain t():
// screen readers read in logical order, and bidi does not apply to them.

import type { JSX } from 'preact';
import { t, type Key } from '../i18n';

type Value = string | number | readonly string[] | JSX.Element;

/** A name, isolated from the text around it. */
export function Name(props: { name: string }): JSX.Element {
  return <bdi class="name">{props.name}</bdi>;
}

/** t(k, params) as elements, with every name in <bdi>. */
export function T(props: { k: Key; params?: Record<string, Value> }): JSX.Element {
  const template = t(props.k);
  const params = props.params ?? {};
  const parts: (string | JSX.Element)[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    const key = m[1] ?? '';
    const v = params[key];
    parts.push(template.slice(last, m.index));
    last = m.index + m[0].length;
    if (v === undefined) parts.push(m[0]);
    else if (typeof v === 'number') parts.push(String(v));
    else if (typeof v === 'string') parts.push(key === 'name' ? <Name key={parts.length} name={v} /> : v);
    else if (!Array.isArray(v)) parts.push(v as JSX.Element);
    else (v as readonly string[]).forEach((n, i) => parts.push(...(i ? [', '] : []), <Name key={`${parts.length}-${i}`} name={n} />));
  }
  parts.push(template.slice(last));
  return <>{parts}</>;
}
