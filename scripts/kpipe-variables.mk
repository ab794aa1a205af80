# kpipe's read of kbuild's variables (core/planning/toolchain.ts), read after the output tree's own
# Makefile, which includes kbuild's top Makefile:
#
#   make -s -C OBJTREE -f Makefile -f .../scripts/kpipe-variables.mk kpipe-variables KPIPE_COMMAND='...'
#
# The recipe runs with everything kbuild's top Makefile exports and prints the variables exactly as
# kbuild's link would see them. kbuild's own `run-command` target does not serve on every line: Linux
# 6.1 has none, and from 6.15 or so it is a no-dot-config target that skips include/config/auto.conf,
# so every CONFIG_-dependent flag would be missing. A goal of kpipe's own reads the config as a build
# does, on every line.
.PHONY: kpipe-variables
kpipe-variables:
	$(Q)$(KPIPE_COMMAND)
