// berth-init: PID 1 of every Berth guest. Its life, from the boot steps to power-off, is
// guest/boot.cc.

#include "guest/boot.h"

int main() { berth::guest::bootAndServe(); }
