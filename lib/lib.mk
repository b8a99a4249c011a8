# libmcs: every lib/*.c goes into build/lib/libmcs.so (public symbols only:
# functions marked MCS_EXPORT, filtered again by lib/libmcs.map) and into
# build/lib/libmcs.a (everything, for unit tests that reach internals).

LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/obj/%.o)
LIBMCS_SO := $(O)/lib/libmcs.so
LIBMCS_A := $(O)/lib/libmcs.a

$(LIBMCS_A): $(LIB_OBJS) lib/lib.mk
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $(LIB_OBJS)

$(O)/lib/libmcs.so.0: $(LIB_OBJS) lib/libmcs.map lib/lib.mk Makefile
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(LIB_OBJS) -Wl,-soname,libmcs.so.0 \
		-Wl,--version-script=lib/libmcs.map -Wl,--no-undefined \
		$(ALL_LDFLAGS) $(LIB_LIBS)

$(LIBMCS_SO): $(O)/lib/libmcs.so.0
	ln -sf libmcs.so.0 $@

all: $(LIBMCS_SO) $(LIBMCS_A)

# Programs link the shared library; they can reach only the public API.
# $(call mcs_program,NAME,SOURCES) defines $(O)/bin/NAME; LIBS_NAME adds
# what only that program links.
PROG_LDFLAGS = -pie -L$(O)/lib -Wl,-rpath,'$$ORIGIN/../lib'
define mcs_program
$(O)/bin/$(1): $(patsubst %.c,$(O)/obj/%.o,$(2)) $(LIBMCS_SO)
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $(patsubst %.c,$(O)/obj/%.o,$(2)) $$(PROG_LDFLAGS) $$(ALL_LDFLAGS) -lmcs $$(LIB_LIBS) $$(LIBS_$(1))
all: $(O)/bin/$(1)
PROGRAMS += $(1)
endef
