package translate

// SafeSysctlsVersion names the kubelet whose safe sysctl list the converted
// policies accept without allowedUnsafeSysctls: the v1.24 list, so that a
// migration keeps exactly what PSP admitted. The versions each engine
// targets are pinned in its own package (its Component shows them).
const SafeSysctlsVersion = "v1.24"
