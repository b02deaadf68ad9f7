/* being written: see provider.h / hpke.h */
