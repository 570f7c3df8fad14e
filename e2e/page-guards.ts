// What every spec asserts about the page itself: every request stays inside the app (the serve
// origin, data: and blob: URLs), no Content-Security-Policy violation, no uncaught error.
import type { Page } from '@playwright/test';

export interface PageRecord {
  requests: string[];
  outside: string[];
  cspViolations: () => Promise<string[]>;
  pageErrors: string[];
}

export async function guardPage(page: Page, origin: string): Promise<PageRecord> {
  const record: PageRecord = {
    requests: [],
    outside: [],
    pageErrors: [],
    cspViolations: () => page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []),
  };
  await page.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { __csp: string[] }).__csp = list;
    document.addEventListener('securitypolicyviolation', (e) => list.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  page.on('request', (request) => {
    const url = request.url();
    record.requests.push(`${request.method()} ${url}`);
    if (!(url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:'))) record.outside.push(url);
  });
  page.on('pageerror', (error) => record.pageErrors.push(error.message));
  return record;
}
