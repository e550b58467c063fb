// The pseudo-terminal the interactive tests use: keys reach the program, the screen and the exit status come back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inTerminal } from '../helpers/terminal.js';

test('a command in the terminal sees a tty, reads typed keys, and its screen and exit status are read back', async () => {
  const terminal = inTerminal(['bash', '-c', 'test -t 0 && test -t 1 && echo tty; read -r line; echo "got $line"; exit 7']);
  try {
    await terminal.waitFor('tty');
    terminal.type('hello');
    terminal.keys('Enter');
    assert.is(await terminal.exited(), 7);
    const screen = terminal.screen();
    assert.match(screen, /^tty\nhello\ngot hello$/m, screen);
  } finally {
    terminal.close();
  }
});

test('C-c is a real SIGINT from the terminal: the command ends by it (130, as a shell reports it)', async () => {
  const terminal = inTerminal(['bash', '-c', 'echo ready; while :; do sleep 0.05; done']);
  try {
    await terminal.waitFor('ready');
    terminal.keys('C-c');
    assert.is(await terminal.exited(), 130);
  } finally {
    terminal.close();
  }
});

test.run();
