// What kind of value a flag takes, where it changes how repeated occurrences combine or how
// `--flag value` is read. Kubernetes components use pflag: slice and map flags ACCUMULATE over repeated
// occurrences (`--authorization-mode=RBAC --authorization-mode=AlwaysAllow` is `RBAC,AlwaysAllow`), every
// other flag takes its last occurrence. A boolean flag never consumes the next word (`--flag value` makes
// `value` a stray argument).
import type { Component } from './consumers.js';

const KUBERNETES_LIST_FLAGS = [
  '--feature-gates',
  '--tls-cipher-suites',
  '--authorization-always-allow-paths',
  '--authentication-skip-lookup',
];

/** Slice, array and map flags per component (pflag types StringSlice, StringArray, MapStringString…). */
const LIST_FLAGS: Partial<Record<Component, readonly string[]>> = {
  'kube-apiserver': [
    ...KUBERNETES_LIST_FLAGS,
    '--enable-admission-plugins',
    '--disable-admission-plugins',
    '--admission-control',
    '--authorization-mode',
    '--etcd-servers',
    '--etcd-servers-overrides',
    '--api-audiences',
    '--service-account-key-file',
    '--service-account-issuer',
    '--requestheader-allowed-names',
    '--requestheader-extra-headers-prefix',
    '--requestheader-group-headers',
    '--requestheader-username-headers',
    '--kubelet-preferred-address-types',
    '--runtime-config',
    '--cors-allowed-origins',
    '--tls-sni-cert-key',
  ],
  kubelet: [
    ...KUBERNETES_LIST_FLAGS,
    '--eviction-hard',
    '--eviction-soft',
    '--eviction-soft-grace-period',
    '--eviction-minimum-reclaim',
    '--node-labels',
    '--cluster-dns',
    '--allowed-unsafe-sysctls',
    '--system-reserved',
    '--kube-reserved',
    '--register-with-taints',
  ],
  'kube-proxy': [...KUBERNETES_LIST_FLAGS, '--nodeport-addresses'],
  'kube-scheduler': [...KUBERNETES_LIST_FLAGS],
  'kube-controller-manager': [...KUBERNETES_LIST_FLAGS, '--controllers'],
};

const BOOLEAN_FLAGS = new Set([
  // Kubernetes components
  '--allow-privileged',
  '--anonymous-auth',
  '--authentication-token-webhook',
  '--enable-bootstrap-token-auth',
  '--enable-aggregator-routing',
  '--fail-swap-on',
  '--profiling',
  '--protect-kernel-defaults',
  '--rotate-certificates',
  '--rotate-server-certificates',
  '--serialize-image-pulls',
  '--use-service-account-credentials',
  '--leader-elect',
  '--start-control-plane',
  '--seccomp-default',
  '--make-iptables-util-chains',
  '--logtostderr',
  '--alsologtostderr',
  // etcd
  '--client-cert-auth',
  '--peer-client-cert-auth',
  '--auto-tls',
  '--peer-auto-tls',
  '--enable-v2',
  '--enable-pprof',
  // flanneld
  '--ip-masq',
  // containerd / dockerd
  '--debug',
]);

export function isListFlag(component: Component | null, name: string): boolean {
  return component !== null && (LIST_FLAGS[component]?.includes(name) ?? false);
}

export function isBooleanFlag(name: string): boolean {
  return BOOLEAN_FLAGS.has(name);
}

export const KUBERNETES_COMPONENTS: readonly Component[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
];
