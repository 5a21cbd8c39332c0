// tfjs prints a one-time "install the node backend" banner on the cpu backend; tfjs-node cannot be installed on
// the machines this suite runs on, so the banner is noise here. Everything else logged still shows.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
  warn(...args);
};
