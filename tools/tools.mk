# Each tool is a directory tools/<name>/ whose .c files link into
# $(O)/bin/<name> against libmcs.so.  Tools only parse, call and print.
#
# Except TOOLS_STATIC: mcs-oci runs once per container command of every
# engine, and loading libmcs.so drags in sqlite, libsepol, libselinux and
# libsystemd (eager binding, -z now) that it never calls.  It links the
# objects it uses from libmcs.a instead (client, label, relabel); it still
# calls only the public API (bench-oci shows the difference).

TOOLS_STATIC := mcs-oci
# mcs-policy alone drives the module store (tools/mcs-policy/modstore.c).
LIBS_mcs-policy := -lsemanage
TOOL_DIRS := $(filter-out $(TOOLS_STATIC),$(sort $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c)))))
$(foreach t,$(TOOL_DIRS),$(eval $(call mcs_program,$(t),$(sort $(wildcard tools/$(t)/*.c)))))

define mcs_static_program
$(O)/bin/$(1): $(patsubst %.c,$(O)/obj/%.o,$(2)) $(LIBMCS_A)
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $(patsubst %.c,$(O)/obj/%.o,$(2)) -pie $$(ALL_LDFLAGS) $(LIBMCS_A) $$(LIB_LIBS)
all: $(O)/bin/$(1)
PROGRAMS += $(1)
endef
$(foreach t,$(TOOLS_STATIC),$(eval $(call mcs_static_program,$(t),$(sort $(wildcard tools/$(t)/*.c)))))
