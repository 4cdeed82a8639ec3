// Builds DOM nodes from data without innerHTML, so names typed by users are always shown as text.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function fmt(value, digits = 4) {
  if (value === undefined || value === null) return '–';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1000 || Math.abs(value) < 1e-3 ? value.toExponential(3) : value.toFixed(digits);
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export const terminal = (status) => ['succeeded', 'failed', 'cancelled'].includes(status);

export function badge(status) {
  return el('span', { class: `badge ${status}`, 'data-status': status }, status);
}
