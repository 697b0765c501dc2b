// What the chat browser tests do as an agent outside the browser: log in to their queues
// from the desk phone (*62, the plan's feature code), as agents do, so the live chat is
// online for the queue's visitors.

import { Phone } from './sipp_phone.mjs';

/** `extension` dials *62 on a phone of its own and is logged in to all its queues. */
export async function logInToQueues(t, extension) {
  t.assert(t.sipAddr, 'SIP_ADDR is set (the agent logs in to the queue from a phone)');
  const phone = await Phone.open(t.sipAddr);
  try {
    const call = await phone.call(extension, t.personPassword, '*62');
    await phone.hungUp(call);
  } finally {
    phone.close();
  }
}
