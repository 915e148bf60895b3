/* Stand-in for DOCA's DPDK library (librte_eal), installed under /opt/mellanox. */
const char *mosc_dpdk_version(void) { return DPDK_VERSION; }
