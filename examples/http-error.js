// @ts-check
/** An HTTP answer with a status that is worth retrying (5xx, 429). */
export class HttpError extends Error {
  /** @override */
  name = 'HttpError';

  /** @param {Response} response */
  constructor(response) {
    super(`${response.status} ${response.statusText}`);
    this.status = response.status;
  }
}

/**
 * fetch, then throw an HttpError for a 5xx or 429 answer so that onException can retry it.
 *
 * @param {string} url
 * @param {RequestInit} [init] fetch's options: the attempt's `signal`, say
 * @returns {Promise<unknown>} the JSON body
 */
export async function fetchJson(url, init) {
  const response = await fetch(url, init);
  if (response.status >= 500 || response.status === 429) throw new HttpError(response);
  return response.json();
}
