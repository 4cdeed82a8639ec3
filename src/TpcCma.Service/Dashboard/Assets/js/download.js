// Download links for files the service may have to prepare first: the Hugging Face export of a checkpoint is
// converted by a worker on first request (202 Accepted and an operation). The link asks for the first byte; on a
// 202 it shows the operation's progress until it has ended, then starts the download.
import { api } from './api.js';
import { el } from './dom.js';

export function preparedDownload(href, label) {
  const link = el('a', { href, download: '' }, label);
  link.addEventListener('click', async (event) => {
    if (link.dataset.ready === 'yes') return;   // prepared: let the browser download it
    event.preventDefault();
    const probe = await fetch(href, { credentials: 'same-origin', headers: { Range: 'bytes=0-0' } });
    if (probe.status === 202) {
      const operation = await probe.json();
      for (let state = operation.state; state === 'queued' || state === 'running';) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const now = await api(`/v1/operations/${operation.id}`);
        state = now.state;
        link.textContent = `${label} (${state} ${Math.round(now.progress * 100)} %)`;
        if (state === 'failed' || state === 'cancelled') {
          link.textContent = `${label} (${state}: ${now.message})`;
          return;
        }
      }
    }
    link.textContent = label;
    link.dataset.ready = 'yes';
    link.click();
  });
  return link;
}
