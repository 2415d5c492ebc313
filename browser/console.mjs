// Drives the staff console in real headless Chromium (Debian's, through playwright-core).
// tests/console/browser.rs starts handoff with the Salesforce sandbox, an SMTP capture and
// two projects (a Draft, and a live one where the customer uploaded a document), then runs:
//
//   node browser/console.mjs
//
// with CONSOLE_URL (handoff's /console), PORTAL_INVITE_URL (the customer's emailed
// link, for reading the rejection in the portal), BROWSER_VIEWPORT (desktop or phone),
// BROWSER_SCREENSHOTS (a folder) and CHROMIUM. Pages are found by role and accessible
// name, as a person (or a screen reader) finds them. What only the SMTP capture and the
// database can tell (the emails, the new assignees) the Rust test checks afterwards.
import { check, required, start } from './harness.mjs';

const consoleUrl = required('CONSOLE_URL');
const customerInvite = required('PORTAL_INVITE_URL');
const viewportName = process.env.BROWSER_VIEWPORT ?? 'desktop';
const { newPage, screenshot, step, fitsTheScreen, finish } = await start(viewportName, required('BROWSER_SCREENSHOTS'));
const page = await newPage();

// The seeded world (tests/console/browser.rs): keep the names in step.
const STAFF = 'Maria Lopez';
const TEAMMATE = 'Sam Staff';
const DRAFT = 'Globex pilot';
const LIVE = 'Acme rollout';
const REASSIGNED = ['Kickoff meeting', 'Provision the workspace', 'Import the data'];
const UPLOAD_TASK = 'Upload your logo';
const FILE = 'acme-logo.png';
const NOTE = 'The logo is too small: please upload one at least 512 pixels wide.';
const REMINDER_TASK = 'Sign the contract';

/// The console's navigation link `name` (on a phone the same links, wrapped).
async function nav(name) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).first().click();
}

async function openProject(name) {
  await nav('Projects');
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
  await page.getByRole('link', { name, exact: true }).first().click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function openTab(project, tab) {
  await openProject(project);
  await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: tab, exact: true }).click();
  await page.waitForLoadState();
}

await step('sign in with Salesforce, on the sandbox consent page', async () => {
  await page.goto(consoleUrl);
  await page.waitForURL(/\/console\/sign-in/);
  await fitsTheScreen('the sign-in page');
  await screenshot('sign-in');
  await page.getByRole('link', { name: 'Sign in with Salesforce' }).click();
  // The Salesforce sandbox's consent page: choose who signs in, allow.
  await page.getByRole('heading', { name: 'Salesforce sandbox' }).waitFor();
  await page.getByRole('radio', { name: new RegExp(STAFF) }).check();
  await screenshot('salesforce-consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/\/console$/);
  await page.getByText(STAFF).first().waitFor();
  await fitsTheScreen('the dashboard');
  await screenshot('dashboard');
});

await step('activate a Draft', async () => {
  await openProject(DRAFT);
  await fitsTheScreen('the Draft overview');
  await screenshot('draft-overview');
  await page.getByRole('button', { name: 'Activate', exact: true }).click();
  await page.getByRole('status').first().waitFor();
  const frame = await page.locator('main').innerText();
  check(/active/i.test(frame), `the project shows it is active: ${frame.slice(0, 200)}`);
  await screenshot('draft-activated');
});

await step('bulk-reassign three tasks with a shift-click range', async () => {
  await openTab(LIVE, 'Tasks');
  await fitsTheScreen('the Tasks tab');
  await screenshot('tasks');
  const [first, , last] = REASSIGNED;
  await page.getByLabel(`Select ${first}`).check();
  // Shift-click the last: everything between is ticked too (console.js).
  await page.getByLabel(`Select ${last}`).click({ modifiers: ['Shift'] });
  for (const title of REASSIGNED) {
    check(await page.getByLabel(`Select ${title}`).isChecked(), `${title} is ticked by the range`);
  }
  check(!(await page.getByLabel(`Select ${UPLOAD_TASK}`).isChecked()), `${UPLOAD_TASK} is outside the range`);
  await page.getByLabel('Reassign the ticked tasks to').selectOption({ label: `${TEAMMATE} (staff)` });
  await screenshot('tasks-ticked');
  await page.getByRole('button', { name: 'Reassign ticked tasks' }).click();
  await page.getByRole('status').first().waitFor();
  const rows = await page.locator('main').innerText();
  check(rows.split(TEAMMATE).length - 1 >= 3, `the three tasks show ${TEAMMATE}`);
  await fitsTheScreen('the Tasks tab after reassigning');
  await screenshot('tasks-reassigned');
});

await step('send a reminder, with a double click', async () => {
  await openTab(LIVE, 'Emails');
  await fitsTheScreen('the Emails tab');
  await page.getByLabel('Task', { exact: true }).selectOption({ label: `${REMINDER_TASK} (Getting started)` });
  // A double click sends one email (the form's one-time code); the test counts them.
  await page.getByRole('button', { name: 'Send a reminder' }).dblclick();
  await page.getByRole('status').first().waitFor();
  await screenshot('reminder-sent');
});

await step('reject a document the customer uploaded, with a note', async () => {
  await openTab(LIVE, 'Documents');
  await fitsTheScreen('the Documents tab', page);
  await screenshot('documents', page);
  const row = page.locator('main tr, main li, main article').filter({ hasText: FILE }).last();
  await row.getByLabel('Why reject it?').fill(NOTE);
  await row.getByRole('button', { name: 'Reject' }).click();
  await page.getByRole('status').first().waitFor();
  await screenshot('document-rejected', page);
});

await step('the customer sees the note in the portal', async () => {
  const customer = await newPage();
  await customer.goto(customerInvite);
  await customer.getByRole('button', { name: new RegExp(`^Sign in and open ${LIVE}`) }).click();
  await customer.getByRole('heading', { level: 1, name: LIVE }).waitFor();
  await customer.getByRole('link', { name: UPLOAD_TASK }).first().click();
  await customer.getByRole('heading', { level: 1, name: UPLOAD_TASK }).waitFor();
  await customer.getByText(NOTE).first().waitFor();
  await fitsTheScreen('the customer\'s task with the rejection', customer);
  await screenshot('portal-rejection-note', customer);
});

await step('find the rejection in the activity search', async () => {
  await nav('Activity');
  await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
  await page.getByLabel('Search', { exact: true }).fill('too small');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/q=too/);
  const trail = await page.locator('main').innerText();
  check(trail.includes(FILE) && /reject/i.test(trail), `the search finds the rejection of ${FILE}: ${trail.slice(0, 400)}`);
  await fitsTheScreen('the activity search', page);
  await screenshot('activity-search', page);
});

await finish();
