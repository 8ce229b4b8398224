/*!40101 SET NAMES binary*/;
INSERT INTO `orders` VALUES
(103,3,-2.50,'paid','refund; see ticket #7','2024-02-15 10:00:00'),
(104,4,0.00,'new','','2024-03-01 00:00:01'),
(105,5,42.42,'shipped','tab\there','2024-03-06 13:37:00');
