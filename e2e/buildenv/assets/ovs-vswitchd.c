/* Stand-in doca-openvswitch daemon: a real ELF linked against the DPDK-like
 * library under /opt/mellanox/dpdk/lib64, so `ldd` shows whether the library
 * resolves where the node runs it. */
#include <stdio.h>
#include <string.h>
extern const char *mosc_dpdk_version(void);
int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("ovs-vswitchd (Open vSwitch) %s-doca\nDPDK %s\n", OVS_VERSION, mosc_dpdk_version());
		return 0;
	}
	fprintf(stderr, "mosc e2e stand-in ovs-vswitchd; try --version\n");
	return 0;
}
