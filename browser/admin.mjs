// Drives the admin pages in real headless Chromium (Debian's, through playwright-core).
// tests/console/admin_browser.rs starts handoff with a HubSpot OAuth connection that is
// not connected yet, the HubSpot sandbox (its webhooks aimed at handoff) and the shipped
// workflows, then runs:
//
//   node browser/admin.mjs
//
// with CONSOLE_URL (handoff's /console), CONSOLE_SESSION (an admin's console session),
// HUBSPOT_URL and HUBSPOT_TOKEN (the sandbox and a private app token, to win the deal
// through HubSpot's API), DEAL_ID, BROWSER_VIEWPORT and BROWSER_SCREENSHOTS.
import { check, required, start } from './harness.mjs';

const consoleUrl = required('CONSOLE_URL');
const session = required('CONSOLE_SESSION');
const hubspotUrl = required('HUBSPOT_URL');
const hubspotToken = required('HUBSPOT_TOKEN');
const deal = required('DEAL_ID');
const viewportName = process.env.BROWSER_VIEWPORT ?? 'desktop';
const { newPage, screenshot, step, fitsTheScreen, finish } = await start(viewportName, required('BROWSER_SCREENSHOTS'));
const page = await newPage();
await page.context().addCookies([{ name: 'handoff_console', value: session, url: consoleUrl }]);

const CONNECTION = 'hubspot';

async function nav(name) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).first().click();
}

function card() {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { level: 2, name: new RegExp(`^${CONNECTION}`) }) });
}

async function notice() {
  return (await page.locator('#connections-notice').innerText()).trim();
}

await step('the Connections page shows the connection, not connected', async () => {
  await page.goto(consoleUrl);
  await nav('Connections');
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
  const text = await card().innerText();
  check(text.includes('Not connected'), `the card says it is not connected: ${text}`);
  check(text.includes(`/webhooks/hubspot/${CONNECTION}`), `the card shows the webhook URL: ${text}`);
  await fitsTheScreen('the connections page');
  await screenshot('connections');
});

await step('connect it by OAuth, on the sandbox install page', async () => {
  await card().getByRole('link', { name: 'Connect' }).click();
  await page.getByRole('heading', { name: 'HubSpot sandbox' }).waitFor();
  await screenshot('hubspot-consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/done=connected/);
  check((await notice()).startsWith('Connected'), `the page says it is connected: ${await notice()}`);
  check(!(await card().innerText()).includes('Not connected'), 'the card no longer says not connected');
  await fitsTheScreen('the connected connection');
  await screenshot('connected');
});

await step('test it: one read with the new token', async () => {
  await card().getByRole('button', { name: 'Test' }).click();
  await page.locator('#connections-notice').waitFor();
  check((await notice()).includes('works'), `the test read works: ${await notice()}`);
  await screenshot('tested');
});

await step('a deal won in HubSpot is traced to its project', async () => {
  const won = await fetch(`${hubspotUrl}/crm/v3/objects/deals/${deal}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${hubspotToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ properties: { dealstage: 'closedwon' } }),
  });
  check(won.ok, `HubSpot took the stage change: ${won.status}`);
  await nav('Trace');
  await page.getByRole('heading', { level: 1, name: 'Trace a CRM record' }).waitFor();
  await page.getByLabel('Connection').selectOption(CONNECTION);
  await page.getByLabel('Record id in the CRM').fill(deal);
  // The webhook, the intake and the workflow run in the background: look again until
  // the trace has the project (a person would press Trace again).
  let summary = '';
  for (let attempt = 0; attempt < 40 && !summary.includes('has a project'); attempt += 1) {
    if (attempt > 0) await page.waitForTimeout(500);
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.waitForURL(/record=/);
    summary = await page.locator('#trace-summary').innerText().catch(() => '');
  }
  check(summary.includes('has a project'), `the trace shows the project: ${summary}`);
  const trace = await page.locator('main').innerText();
  check(/webhook/i.test(trace), `the change came by webhook: ${trace.slice(0, 600)}`);
  check(trace.includes('hubspot-closedwon'), `the workflow's decision is listed: ${trace.slice(0, 600)}`);
  await fitsTheScreen('the trace page');
  await screenshot('trace');
});

await finish();
