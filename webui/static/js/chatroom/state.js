// Provides the Chatroom's shared state and a small event bus between its parts.
export const state = {
  conversationId: null, // the open conversation
  conversation: null, // its summary, as the API last gave it
  rows: [], // the inbox list, in order
  severalNumbers: false, // the business has more than one WhatsApp number: rows name it
};

const bus = new EventTarget();

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

export function on(name, handler) {
  bus.addEventListener(name, (event) => handler(event.detail));
}
