# Each tool is a directory tools/<name>/ whose .c files link into
# $(O)/bin/<name> against libmcs.so.  Tools only parse, call and print.

TOOL_DIRS := $(sort $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c))))
$(foreach t,$(TOOL_DIRS),$(eval $(call mcs_program,$(t),$(sort $(wildcard tools/$(t)/*.c)))))
