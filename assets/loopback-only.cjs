// Preloaded (node --require) into an MCP server that binds every interface by default, so that
// it listens on loopback only. It also reports the port it got (useful with PORT=0) on stderr as
// a line "GATEHOUSE_LISTENING port=<n>".
'use strict';
const net = require('node:net');
const original = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    args[0] = { ...first, host: '127.0.0.1' };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  }
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') {
      process.stderr.write(`GATEHOUSE_LISTENING port=${address.port}\n`);
    }
  });
  return original.apply(this, args);
};
