#include "powercut.h"

unsigned long powercut_points;
