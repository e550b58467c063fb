// A user profile with two schema errors (a severity that does not exist, a value with a space), for the tests
// that see the built file or executable report them by line, as the compiled checker does.

/** The profile text, extending the shipped profile `base`. */
export function badProfile(base: string): string {
  return `apiVersion: harden/v1
kind: Profile
name: mine
title: Mine
extends: ${base}
rules:
  - id: kubelet.hostname
    title: Pin the hostname
    rationale: a test
    severity: urgent
    component: kubelet
    operation: set-flag
    flag: --hostname-override
    value: "a b"
`;
}
