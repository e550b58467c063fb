// The signals a change catches: counted, the first aborts the signal the waits listen to, and the defaults come back.
import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CAUGHT, noInterrupts, watchInterrupts, type SignalName, type SignalSource } from '../../src/effects/interrupts.js';

const emitter = () => new EventEmitter() as EventEmitter & SignalSource;

test('watchInterrupts: the first signal aborts; each is counted and told to the listeners, with its name', () => {
  const source = emitter();
  const interrupts = watchInterrupts(source);
  const heard: [number, SignalName][] = [];
  interrupts.onSignal((count, name) => heard.push([count, name]));
  assert.is(interrupts.signal.aborted, false);
  assert.is(interrupts.count(), 0);
  assert.is(interrupts.first(), null);
  source.emit('SIGTERM');
  assert.is(interrupts.signal.aborted, true);
  assert.is((interrupts.signal.reason as Error).message, 'interrupted by SIGTERM');
  source.emit('SIGINT');
  source.emit('SIGHUP');
  assert.is(interrupts.count(), 3);
  assert.is(interrupts.first(), 'SIGTERM');
  assert.equal(heard, [[1, 'SIGTERM'], [2, 'SIGINT'], [3, 'SIGHUP']]);
  interrupts.dispose();
});

test('watchInterrupts: dispose takes its handlers off, so the defaults apply again', () => {
  const before = CAUGHT.map((name) => process.listenerCount(name));
  const interrupts = watchInterrupts();
  assert.equal(CAUGHT.map((name) => process.listenerCount(name)), before.map((n) => n + 1));
  interrupts.dispose();
  assert.equal(CAUGHT.map((name) => process.listenerCount(name)), before);
  const source = emitter();
  const other = watchInterrupts(source);
  other.dispose();
  source.emit('SIGINT');
  assert.is(other.count(), 0);
});

test('noInterrupts: never aborted', () => {
  const none = noInterrupts();
  assert.is(none.signal.aborted, false);
  assert.is(none.count(), 0);
});

test.run();
