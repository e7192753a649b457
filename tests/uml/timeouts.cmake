# Included after the build's tests by the ctest of the user-mode-linux
# guest (run-uml.sh): there the kernel tests run 10 to 20 times slower than
# on the host, so they get more time (the host's limits stay as they are).
set_tests_properties(netcfg_live netcfg_live_sit PROPERTIES TIMEOUT 300)
set_tests_properties(test_6in4 test_datapath test_two_tunnels test_sit_kernel test_update
                     PROPERTIES TIMEOUT 600)
