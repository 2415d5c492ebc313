// Drives the customer portal in real headless Chromium (Debian's, through
// playwright-core; no browser is downloaded). tests/portal/browser.rs starts handoff with an
// SMTP capture and a seeded project, takes the invitation from the capture and runs:
//
//   node browser/portal.mjs
//
// with PORTAL_INVITE_URL (the emailed /invite/… link), BROWSER_VIEWPORT (desktop =
// 1280×800, phone = 390×844), BROWSER_SCREENSHOTS (a folder; one PNG per page) and
// CHROMIUM (default /usr/bin/chromium). Pages are found by role and accessible name,
// as a person (or a screen reader) finds them. Prints one line per step, "SKIPPED: …"
// for a step whose page does not exist yet, and exits non-zero when a step fails.
import { Skip, check, required, start } from './harness.mjs';

const invite = required('PORTAL_INVITE_URL');
const viewportName = process.env.BROWSER_VIEWPORT ?? 'desktop';
const { newPage, screenshot, step, fitsTheScreen, finish } = await start(viewportName, required('BROWSER_SCREENSHOTS'));
const page = await newPage();

// The seeded project (tests/portal/browser.rs): keep the names in step.
const PROJECT = 'Acme rollout';
const TODO = 'Sign the contract';
const FORM = 'Name your project team';
const UPLOAD = 'Upload your logo';
const TEAMMATE = 'Theo';

async function openProject() {
  await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
  const link = page.getByRole('link', { name: PROJECT });
  if (await link.count()) await link.first().click();
  await page.getByRole('heading', { level: 1, name: PROJECT }).waitFor();
}

async function openTask(title) {
  await openProject();
  await page.getByRole('link', { name: title }).first().click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

/// Whether the task page offers a form of the task's own (besides signing out).
async function taskHasForms() {
  return (await page.locator('main form:not([action="/sign-out"])').count()) > 0;
}

await step('sign in from the emailed invitation', async () => {
  await page.goto(invite);
  const button = page.getByRole('button', { name: new RegExp(`^Sign in and open ${PROJECT}`) });
  await button.waitFor();
  await screenshot('invitation');
  await button.click();
  await page.waitForURL(/\/projects\//);
  await page.getByRole('heading', { level: 1, name: PROJECT }).waitFor();
  await fitsTheScreen('the project page');
  await screenshot('project');
});

await step('filter the tasks', async () => {
  const filter = page.getByRole('navigation', { name: 'Task filter' });
  for (const [label, param] of [['My tasks', 'mine'], ['Company tasks', 'company'], ['All tasks', 'all']]) {
    await filter.getByRole('link', { name: label }).click();
    await page.waitForURL(new RegExp(`filter=${param}`));
    check(
      (await filter.getByRole('link', { name: label }).getAttribute('aria-current')) === 'page',
      `${label} is marked as the current filter`,
    );
    if (param === 'company') {
      check(await page.getByRole('link', { name: TODO }).count(), `${TODO} (a company task) is listed under ${label}`);
    }
    await screenshot(`filter-${param}`);
  }
});

await step('complete a simple task', async () => {
  await openTask(TODO);
  await screenshot('todo-task');
  await page.getByRole('button', { name: 'Mark as done' }).click();
  await page.getByRole('heading', { level: 1, name: PROJECT }).waitFor();
});

await step('fill a form task, with a validation error first', async () => {
  await openTask(FORM);
  if (!(await taskHasForms())) throw new Skip('form tasks are not built yet (no form on the task page)');
  const sponsor = page.getByLabel('Executive sponsor (email)');
  await sponsor.fill('not an email');
  await page.getByLabel('Project manager (email)').fill('pm@acme.example');
  await page.locator('main form').filter({ has: sponsor }).getByRole('button').first().click();
  const invalid = page.getByLabel('Executive sponsor (email)');
  await invalid.waitFor();
  check((await invalid.getAttribute('aria-invalid')) === 'true', 'the wrong email is marked invalid');
  check((await page.getByLabel('Project manager (email)').inputValue()) === 'pm@acme.example', 'what was typed is kept');
  await fitsTheScreen('the form with its error');
  await screenshot('form-error');
  await invalid.fill('ceo@acme.example');
  await page.locator('main form').filter({ has: invalid }).getByRole('button').first().click();
  await page.waitForLoadState();
  check((await page.locator('[aria-invalid="true"]').count()) === 0, 'no field is invalid any more');
  await screenshot('form-done');
});

await step('upload a file', async () => {
  await openTask(UPLOAD);
  if (!(await taskHasForms())) throw new Skip('uploads are not built yet (no form on the task page)');
  const input = page.locator('main input[type="file"]');
  check(await input.count(), 'the upload task has a file input');
  // A 1×1 PNG.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  await input.first().setInputFiles({ name: 'acme-logo.png', mimeType: 'image/png', buffer: png });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.waitForLoadState();
  await page.getByText('acme-logo.png').first().waitFor();
  await fitsTheScreen('the upload task');
  await screenshot('upload-done');
});

await step('assign a task to a teammate', async () => {
  await openTask(UPLOAD);
  const assignee = page.getByLabel(/assign/i);
  if (!(await assignee.count())) {
    if (!(await taskHasForms())) throw new Skip('assigning is not built yet (no form on the task page)');
    throw new Error('the task page has forms, but none labelled to assign the task');
  }
  const option = assignee.first().locator('option', { hasText: TEAMMATE });
  await assignee.first().selectOption({ value: await option.first().getAttribute('value') });
  await page.locator('main form').filter({ has: assignee.first() }).getByRole('button').first().click();
  await page.waitForLoadState();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  await openTask(UPLOAD);
  const facts = await page.locator('dl').first().innerText();
  check(facts.includes(TEAMMATE), `the task shows ${TEAMMATE} as assigned: ${facts}`);
  await screenshot('assigned');
});

await step('see the team', async () => {
  await openProject();
  const team = page.getByRole('link', { name: 'Team', exact: true });
  if (!(await team.count())) throw new Skip('the team page is not built yet');
  await team.click();
  await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
  check(await page.getByText(TEAMMATE).count(), `${TEAMMATE} is on the team page`);
  await fitsTheScreen('the team page');
  await screenshot('team');
});

await step('edit the profile, with a validation error first', async () => {
  const link = page.getByRole('link', { name: 'Profile', exact: true });
  if (!(await link.count())) throw new Skip('the profile page is not built yet');
  await link.first().click();
  await page.getByRole('heading', { level: 1, name: 'Your profile' }).waitFor();
  await screenshot('profile');
  const first = page.getByLabel('First name');
  await first.fill('');
  await page.getByLabel('Job title').fill('Head of Operations');
  await page.getByRole('button', { name: 'Save my profile' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your profile' }).waitFor();
  check((await page.getByLabel('First name').getAttribute('aria-invalid')) === 'true', 'an empty first name is refused');
  check((await page.getByLabel('Job title').inputValue()) === 'Head of Operations', 'what was typed is kept');
  await fitsTheScreen('the profile with its error');
  await screenshot('profile-error');
  await page.getByLabel('First name').fill('Mia');
  await page.getByRole('button', { name: 'Save my profile' }).click();
  await page.waitForLoadState();
  await page.getByRole('link', { name: 'Profile', exact: true }).first().click();
  check((await page.getByLabel('Job title').inputValue()) === 'Head of Operations', 'the job title was saved');
  check((await page.getByLabel('First name').inputValue()) === 'Mia', 'the first name was saved');
  await screenshot('profile-saved');
});

await step('sign out', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in/);
  await page.goto(new URL('/projects', invite).href);
  await page.waitForURL(/\/sign-in/);
  await screenshot('signed-out');
});

await finish();
