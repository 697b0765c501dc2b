// How each channel is shown: a short label and a symbol, so a live chat, a WhatsApp, a
// Facebook and an SMS conversation tell apart at a glance (the manual's icons). The
// symbols are plain text any system font has (no emoji, no image files).

import { h } from '../../../shared/dom.js';

const CHANNELS = {
  livechat: { label: 'Live chat', icon: '⌂' },
  whatsapp: { label: 'WhatsApp', icon: '✆' },
  facebook: { label: 'Facebook', icon: 'f' },
  sms: { label: 'SMS', icon: '✉' },
};

/** The channel's name for people (`Live chat`). */
export function channelName(channel) {
  return (CHANNELS[channel] || { label: channel }).label;
}

/** A small badge: the channel's icon and name. */
export function channelBadge(channel) {
  const c = CHANNELS[channel] || { label: channel, icon: '?' };
  return h('span.channel', { dataset: { channel }, title: c.label }, h('span.channel-icon', { attrs: { 'aria-hidden': 'true' } }, c.icon), c.label);
}

/**
 * Who the customer is, for people: their name when known; a website visitor, who is known
 * by a long random id only, as "Website visitor" and the id's first characters.
 */
export function contactName(conversation) {
  const customer = String(conversation.customer || '');
  if (conversation.contact_name && conversation.contact_name !== customer) return conversation.contact_name;
  if (conversation.channel === 'livechat') return `Website visitor ${customer.replace(/^v-/, '').slice(0, 6)}`;
  return customer;
}

/** Whether the customer's address on `channel` is a phone number one may call or text. */
export function isPhoneChannel(channel) {
  return channel === 'sms' || channel === 'whatsapp';
}

/** Clock time for today, else the date and time, in the browser's locale. */
export function timeText(at) {
  if (!at) return '';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
