// Colleagues' chat in the people's client: Alice (101) finds Bruno (102) in the Team
// page's colleagues and writes to him; Bruno, with his page already open, sees the thread
// appear with its unread count and the message in it without reloading; his reply appears
// in Alice's open thread the same way, and opening the thread clears his count.

export default async function (t) {
  const { page } = t;
  const bruno = await t.otherPage();
  await t.signInPerson('102', undefined, bruno);
  await bruno.locator('.nav-tab[data-page=team]').click();
  await bruno.locator('.team-people .team-person[data-extension="101"]').waitFor();

  await t.signInPerson('101');
  await page.locator('.nav-tab[data-page=team]').click();
  await page.locator('.team-search').fill('bru');
  await page.locator('.team-people .team-person[data-extension="102"]').click();
  const thread = page.locator('.team-conversation:not(.hidden)');
  await thread.locator('.team-contact', { hasText: 'Bruno' }).waitFor();
  const text = `Lunch at noon? ${Date.now()}`;
  await thread.locator('textarea[name=team-reply]').fill(text);
  await thread.locator('textarea[name=team-reply]').press('Enter');
  await thread.locator('.team-msg.out', { hasText: text }).waitFor();

  // Bruno's page, never reloaded, hears of it.
  const row = bruno.locator('.team-thread[data-kind=direct][data-with="101"]');
  await row.locator('.team-unread', { hasText: '1' }).waitFor();
  await row.locator('.team-last', { hasText: text }).waitFor();
  await bruno.locator('.nav-tab[data-page=team] .badge', { hasText: '1' }).waitFor();
  await row.locator('.team-open').click();
  const brunos = bruno.locator('.team-conversation:not(.hidden)');
  await brunos.locator('.team-msg.in', { hasText: text }).waitFor();
  await row.locator('.team-unread').waitFor({ state: 'detached' });

  // And back: Alice's open thread shows the reply as it is written.
  await brunos.locator('textarea[name=team-reply]').fill('Yes, see you there.');
  await brunos.locator('.team-send').click();
  await thread.locator('.team-msg.in', { hasText: 'Yes, see you there.' }).waitFor();
  await t.screenshot('team-chat');
}
