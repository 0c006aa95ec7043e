// fsskernels/fsskernels.h: umbrella header for the CPU library (target fsskernels::core).
#pragma once
#include "fsskernels/aes.h"
#include "fsskernels/block.h"
#include "fsskernels/errors.h"
#include "fsskernels/fss.h"
#include "fsskernels/keyformat.h"
#include "fsskernels/limits.h"
#include "fsskernels/pack.h"
#include "fsskernels/ring.h"
#include "fsskernels/version.h"
