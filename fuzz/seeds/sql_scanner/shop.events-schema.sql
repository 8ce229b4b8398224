/*!40101 SET NAMES binary*/;
CREATE TABLE `events` (
  `at` datetime NOT NULL,
  `kind` varchar(16) NOT NULL,
  `customer_id` int(11) DEFAULT NULL,
  `payload` varchar(200) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
